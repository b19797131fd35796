//! Revocation lists: `verify_revocation_list` on raw, edited and re-signed inputs.
//!
//! Invariants: no wrong accept; a re-signed list that verifies names the fixture's site,
//! expires after it is issued, has a delta base below its version (or, if full, restores
//! nothing), and signs again to the same list.
#![no_main]

use bygd_protocol::verify_revocation_list;
use bygd_protocol_fuzz::{check_signed, fixture, signed_input, ISSUER_SEED, REVOCATION_CONTEXT};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fixture = fixture();
    let originals = &fixture.revocation_lists;
    let input = signed_input(data, originals, REVOCATION_CONTEXT, &ISSUER_SEED);
    let result = verify_revocation_list(&input.bytes, &fixture.issuers, &fixture.site);
    check_signed(&input, originals, &result);
    if let Ok((_, list)) = result {
        assert_eq!(list.site, fixture.site);
        assert!(list.issued_at < list.expires);
        match list.base {
            Some(base) => assert!(base < list.version),
            None => assert!(list.restored_passes.is_empty() && list.restored_members.is_empty()),
        }
        let again =
            verify_revocation_list(&list.sign(&fixture.issuer), &fixture.issuers, &fixture.site);
        assert_eq!(again.map(|(_, l)| l), Ok(list));
    }
});
