"""What every domain of the controller stands on: HTTP plumbing, errors, settings, the database and background loops."""
