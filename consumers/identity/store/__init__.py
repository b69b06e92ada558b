"""Where the links between identities live: in process memory, or in Redis shared by the group."""
