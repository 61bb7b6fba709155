import TopCoinsCommandLine

await SpreadMonitorCommand.start()
