return {id = "hostile.mem_cjson", version = "1.0.0", entry = "attack",
        description = "A memory bomb on the C side: cjson.encode builds its output with malloc"}
