"""One router per resource: instruments, scores, FHIR and health."""
