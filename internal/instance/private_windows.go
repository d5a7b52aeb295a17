package instance

// checkPrivate does nothing on Windows: the directory is under the user's
// %LocalAppData%, whose ACL already keeps other users out.
func checkPrivate(dir string) error { return nil }
