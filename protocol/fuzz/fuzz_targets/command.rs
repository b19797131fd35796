//! Commands: `verify_command` (empty history, the fixture's gateway and time) on raw, edited
//! and re-signed inputs.
//!
//! Invariants: no wrong accept; a re-signed command that verifies is addressed to this
//! gateway, expires after it is issued, and signs again to the same command.
#![no_main]

use bygd_protocol::{verify_command, CommandLimits};
use bygd_protocol_fuzz::{
    check_signed, fixture, signed_input, NoHistory, COMMAND_CONTEXT, ISSUER_SEED,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fixture = fixture();
    let verify = |bytes: &[u8]| {
        verify_command(
            bytes,
            &fixture.issuers,
            &fixture.site,
            &fixture.gateway,
            fixture.now,
            &NoHistory,
            CommandLimits::default(),
        )
    };
    let input = signed_input(data, &fixture.commands, COMMAND_CONTEXT, &ISSUER_SEED);
    let result = verify(&input.bytes);
    check_signed(&input, &fixture.commands, &result);
    if let Ok(command) = result {
        assert_eq!(command.site, fixture.site);
        assert_eq!(command.gateway, fixture.gateway);
        assert!(command.issued_at < command.expires);
        assert_eq!(verify(&command.sign(&fixture.issuer)), Ok(command));
    }
});
