return {id = "hostile.result_metatable", version = "1.0.0", entry = "attack",
        description = "A result table whose metatable loops in __index, __pairs, __len, __eq and __tostring"}
