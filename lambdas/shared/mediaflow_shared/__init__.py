"""Code shared by MediaFlow's Lambda functions (deployed as the SharedLayer)."""
