return {id = "hostile.reach_hidden", version = "1.0.0", entry = "attack",
        description = "Looks for debug, package.loadlib, io.popen, string.dump, load of binary chunks everywhere it can reach"}
