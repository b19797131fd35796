//! `bygd`: the central command. Not built yet beyond this placeholder.

fn main() {
    eprintln!("bygd: nothing here yet");
    std::process::exit(2);
}
