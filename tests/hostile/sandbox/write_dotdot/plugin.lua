return {id = "hostile.write_dotdot", version = "1.0.0", entry = "attack",
        description = "Writes outside through .. from the writable directory"}
