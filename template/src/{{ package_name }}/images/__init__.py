"""Container images: build, tag, push (Docker SDK) and the host check (doctor)."""
