package winsvc

// SeeLog tells the user where the tunnel services' log is: WireGuard's
// ring log (Layout.LogPath) is a binary file in a folder only the
// Administrators can open, and "wgpunch log" prints it as text.
const SeeLog = "to see why, run \"wgpunch log\" in a Command Prompt started as administrator"
