import TopCoinsCommandLine

await HTTPAPICommand.start()
