"""Administration: the admin API (`/api/v1/admin/*`) and the `computalot-admin` command."""
