return {id = "hostile.string_dump", version = "1.0.0", entry = "attack",
        description = "Bytecode: string.dump of a plugin function"}
