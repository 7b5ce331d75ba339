return {id = "hostile.load_binary_mode", version = "1.0.0", entry = "attack",
        description = "Bytecode injection: load with mode 'b' and through a reader function"}
