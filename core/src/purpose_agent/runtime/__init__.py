"""The agent runtime: actor, step loop, events, and the easy API built on them."""
