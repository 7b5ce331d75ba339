return {id = "hostile.load_binary", version = "1.0.0", entry = "attack",
        description = "Bytecode injection: load of a binary chunk (given as a string argument)"}
