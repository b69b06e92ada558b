"""detect-secrets, imported through here: importing it turns on `logging.captureWarnings` for the
whole process (every warning would go to logging instead of where Python sends it); turned off again."""

import logging

import detect_secrets  # noqa: F401

logging.captureWarnings(False)
