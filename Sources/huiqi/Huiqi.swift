import HuiqiCommands

/// The executable: parse the command line and run the command (sync or async). Everything else is in HuiqiCommands.
@main
struct Huiqi {
    static func main() async {
        await HuiqiCommand.runAsRoot()
    }
}
