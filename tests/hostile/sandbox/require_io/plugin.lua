return {id = "hostile.require_io", version = "1.0.0", entry = "attack",
        description = "require('io') when the policy blocks it"}
