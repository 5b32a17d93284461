package accesslog

// AppendString lets the external tests reach the JCS string encoder directly.
var AppendString = appendString
