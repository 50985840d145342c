"""The review web app: `nianbao review serve`."""
