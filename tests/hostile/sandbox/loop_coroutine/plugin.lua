return {id = "hostile.loop_coroutine", version = "1.0.0", entry = "attack",
        description = "An infinite loop inside coroutines that resume each other and swallow errors"}
