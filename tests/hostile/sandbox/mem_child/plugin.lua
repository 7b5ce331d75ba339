return {id = "hostile.mem_child", version = "1.0.0", entry = "attack",
        description = "A memory bomb in a child process (not the Lua allocator)"}
