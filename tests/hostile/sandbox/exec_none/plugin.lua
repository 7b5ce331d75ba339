return {id = "hostile.exec_none", version = "1.0.0", entry = "attack",
        description = "os.execute and io.popen at NONE: absent"}
