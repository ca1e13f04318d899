"""HTTP routes by resource and the WebSocket gateway."""
