"""The conversation core: channel-neutral handling of everything people send to carbot."""
