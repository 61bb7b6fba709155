import TopCoins

await HTTPAPIProgram.main()
