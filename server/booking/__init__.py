"""The booking rules as plain code: commands, the locked state they are judged against, the
rules (``decide``), and their outcomes. No I/O, no clock: the actor loads the state under its
locks, asks the rules, and writes what they decided (server/actors/)."""
