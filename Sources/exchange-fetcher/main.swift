import TopCoinsCommandLine

await ExchangeFetcherCommand.start()
