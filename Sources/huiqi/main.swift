import HuiqiCommands

HuiqiCommand.main()
