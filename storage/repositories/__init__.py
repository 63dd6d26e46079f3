"""One repository per aggregate. Repositories never commit: the unit of work does."""
