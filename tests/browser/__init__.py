"""What the browser tests load besides the embedded server: npm packages and a static file server."""
