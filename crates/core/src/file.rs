//! Reading local files into memory the caller owns, without blocking the async workers' other
//! tasks: ranged GETs of the local store, and uploads whose source is a local file.

use std::fs::File;
use std::io;
use std::mem::MaybeUninit;

/// Opens a local file that a write reads as its source (an upload, a local store's write):
/// a regular file only. Opened without blocking, since a FIFO would wait for a writer, and
/// checked on the open handle, so the file read is the file checked. Pipes and sockets
/// cannot be read by offset; the caller reads those as streams.
pub fn open_source(path: &str) -> io::Result<File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK);
    }
    let file = opts.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::other("it is not a regular file"));
    }
    Ok(file)
}

/// Reads from `offset` into `dst` until it is full or the file ends; returns the bytes read.
/// Every byte of `dst[..n]` is written. Positioned (`pread`), so the file offset is untouched
/// and one `File` can serve reads from several tasks.
pub(crate) fn read_at(file: &File, offset: u64, dst: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
    let mut read = || -> io::Result<usize> {
        #[cfg(unix)]
        {
            use std::os::unix::io::AsRawFd;
            let mut done = 0usize;
            while done < dst.len() {
                let rest = &mut dst[done..];
                // SAFETY: pread writes at most `rest.len()` bytes into memory `rest` owns;
                // writing to uninitialised bytes is what MaybeUninit is for.
                let n = unsafe {
                    libc::pread(
                        file.as_raw_fd(),
                        rest.as_mut_ptr().cast(),
                        rest.len(),
                        (offset + done as u64) as libc::off_t,
                    )
                };
                match n {
                    0 => break,
                    n if n < 0 => {
                        let e = io::Error::last_os_error();
                        if e.kind() != io::ErrorKind::Interrupted {
                            return Err(e);
                        }
                    }
                    n => done += n as usize,
                }
            }
            Ok(done)
        }
        #[cfg(not(unix))]
        {
            use std::io::{Read, Seek, SeekFrom};
            dst.fill(MaybeUninit::new(0));
            // SAFETY: every byte was just initialised.
            let dst = unsafe { &mut *(dst as *mut [MaybeUninit<u8>] as *mut [u8]) };
            let mut f = file;
            f.seek(SeekFrom::Start(offset))?;
            let mut done = 0;
            while done < dst.len() {
                match f.read(&mut dst[done..]) {
                    Ok(0) => break,
                    Ok(n) => done += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(done)
        }
    };
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(read),
        _ => read(),
    }
}

/// [`read_at`] that must fill `dst`: a file that ends first is `UnexpectedEof`.
pub(crate) fn read_exact_at(file: &File, offset: u64, dst: &mut [MaybeUninit<u8>]) -> io::Result<()> {
    if read_at(file, offset, dst)? < dst.len() {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_a_range_and_stops_at_the_end() {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(b"0123456789").unwrap();
        let mut buf = Vec::<u8>::with_capacity(8);
        let n = read_at(&f, 4, &mut buf.spare_capacity_mut()[..8]).unwrap();
        assert_eq!(n, 6);
        // SAFETY: read_at wrote the first n bytes.
        unsafe { buf.set_len(n) };
        assert_eq!(buf, b"456789");
        let mut buf = Vec::<u8>::with_capacity(4);
        assert_eq!(
            read_exact_at(&f, 8, &mut buf.spare_capacity_mut()[..4]).unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
        assert_eq!(read_at(&f, 20, &mut buf.spare_capacity_mut()[..4]).unwrap(), 0, "past the end: nothing");
    }
}
