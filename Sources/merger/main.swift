import TopCoinsCommandLine

await MergerCommand.start()
