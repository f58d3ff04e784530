"""Operations on a whole store: backups, moving to PostgreSQL, re-sending what was passed over."""
