return {id = "hostile.loop_string_rep", version = "1.0.0", entry = "attack",
        description = "A loop inside C: string.rep of a huge count into a tiny result"}
