"""The bundled sample district and its generator."""
