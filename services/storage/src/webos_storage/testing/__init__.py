"""Real servers on loopback for the storage tests and the benchmark (FTP/FTPS,
SFTP, SMB, WebDAV and a Drive v3 subset); see `loopback.py`."""
