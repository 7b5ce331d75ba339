return {id = "hostile.loop_gsub", version = "1.0.0", entry = "attack",
        description = "A loop inside C: string.gsub with a catastrophic pattern and a string replacement"}
