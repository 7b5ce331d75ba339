return {id = "minimal", version = "0.1.0", entry = "init"}
