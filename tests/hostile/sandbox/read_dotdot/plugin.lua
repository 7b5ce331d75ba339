return {id = "hostile.read_dotdot", version = "1.0.0", entry = "attack",
        description = "Reads the host key through .. from an allowed directory"}
