"""The app's five steps, one module each; every module's ``page()`` draws its step."""
