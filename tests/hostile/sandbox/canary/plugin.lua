return {id = "hostile.canary", version = "1.0.0", entry = "canary",
        description = "The canary: a well-behaved plugin called after every attack"}
