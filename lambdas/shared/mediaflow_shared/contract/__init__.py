"""The job contract: the job document, its record, its failures in words, the S3 layout and the settings."""
