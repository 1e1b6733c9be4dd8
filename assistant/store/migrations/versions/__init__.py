"""One file per schema revision, oldest first: 0001 is the schema the store had before migrations."""
