return {id = "globals", version = os.getenv("VERSION"), entry = "main"}
