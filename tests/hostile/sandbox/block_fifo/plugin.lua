return {id = "hostile.block_fifo", version = "1.0.0", entry = "attack",
        description = "Blocks in the kernel: opens a FIFO that has no writer"}
