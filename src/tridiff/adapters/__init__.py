"""Methods backed by other libraries, registered as `tridiff.methods` entry points."""
