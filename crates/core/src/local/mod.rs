//! A local directory that no key can leave: every path is resolved beneath the root's
//! directory handle by the system call itself (cap-std: `openat2(RESOLVE_BENEATH)` on Linux,
//! component-by-component `openat(O_NOFOLLOW)` elsewhere), never checked first and used
//! later. A folder swapped for a symlink while an operation runs cannot redirect it outside
//! the root: the swap is seen by the system call that resolves the path, which refuses it.
//!
//! Symlinks: a link is followed when its target, resolved from the link's folder, stays
//! beneath the root (`alias -> real`, `up -> ../other`). A target outside the root, an
//! absolute target (even one that names a path inside the root: the capability resolver has
//! no ambient path to compare with, and an absolute link stops pointing inside when the tree
//! is moved or mounted elsewhere) and a loop are refused with `InvalidInput`. Listings skip
//! such links; recursive walks list linked folders but do not descend into them, so a link
//! to an ancestor cannot make a walk endless.
//!
//! Writes go to a hidden temp file (`.~rs-tmp.…`) created with `O_EXCL` in the target's own
//! folder, through the handle of that folder, and are committed by a rename (overwrite) or a
//! hard link (create-only: fails atomically when the target appeared meanwhile) relative to
//! the same handle. The cancellation token is checked right before that last step; a temp
//! file that is not committed is removed (also when its owner is dropped).
//!
//! Every error names the store key, never an absolute path.

mod store;

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use cap_std::ambient_authority;
use cap_std::fs::{Dir, OpenOptions};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, ErrorKind, Result};

pub use store::ConfinedStore;

/// Temp files of writes carry this prefix; listings hide them.
pub const TEMP_PREFIX: &str = ".~rs-tmp.";

/// Reads and writes move at most this many bytes between two looks at the cancellation token.
const CHUNK: usize = 8 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Folder,
    /// A socket, device, FIFO: neither readable as a file nor listable as a folder.
    Other,
}

/// What a stat or a listing tells about one path.
#[derive(Debug, Clone)]
pub struct Entry {
    pub kind: EntryKind,
    pub size: u64,
    pub modified: SystemTime,
    /// The entry itself is a symlink (to something beneath the root); set by listings.
    pub symlink: bool,
    /// Distinguishes file versions in e-tags (inode number where there is one).
    pub inode: u64,
}

impl Entry {
    fn of(meta: &cap_std::fs::Metadata, symlink: bool) -> Entry {
        let kind = if meta.is_file() {
            EntryKind::File
        } else if meta.is_dir() {
            EntryKind::Folder
        } else {
            EntryKind::Other
        };
        Entry {
            kind,
            size: meta.len(),
            modified: meta.modified().map(|t| t.into_std()).unwrap_or(SystemTime::UNIX_EPOCH),
            symlink,
            inode: inode(meta),
        }
    }

    fn of_file(file: &File) -> io::Result<Entry> {
        Ok(Entry::of(&cap_std::fs::Metadata::from_file(file)?, false))
    }

    /// Milliseconds since the Unix epoch (negative before it).
    pub fn modified_ms(&self) -> f64 {
        match self.modified.duration_since(SystemTime::UNIX_EPOCH) {
            Ok(d) => d.as_secs_f64() * 1000.0,
            Err(e) => -e.duration().as_secs_f64() * 1000.0,
        }
    }
}

#[cfg(unix)]
fn inode(meta: &cap_std::fs::Metadata) -> u64 {
    use cap_std::fs::MetadataExt;
    meta.ino()
}

#[cfg(not(unix))]
fn inode(_meta: &cap_std::fs::Metadata) -> u64 {
    0
}

/// A local directory and the namespace operations beneath it. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LocalRoot {
    root: PathBuf,
}

impl LocalRoot {
    /// No I/O: the root is opened by each operation (so a root deleted and made again is
    /// used again), and created by the first write when missing.
    pub fn new(root: impl Into<PathBuf>) -> LocalRoot {
        LocalRoot { root: root.into() }
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    /// The root's handle, or `None` when the root does not exist.
    fn open_root(&self) -> Result<Option<Dir>> {
        match Dir::open_ambient_dir(&self.root, ambient_authority()) {
            Ok(d) => Ok(Some(d)),
            // A file where the root should be: no store can work there, and reads must not
            // pass for an empty store.
            Err(_) if std::fs::metadata(&self.root).is_ok_and(|m| !m.is_dir()) => Err(self.unusable("is not a folder")),
            Err(e) if e.kind() == io::ErrorKind::NotADirectory => {
                Err(self.unusable("cannot exist: a file is in the way"))
            }
            Err(e) if is_missing(&e) => Ok(None),
            Err(e) => Err(io_error("", e)),
        }
    }

    fn unusable(&self, why: &str) -> Error {
        Error::new(ErrorKind::Unavailable, "", format!("the local root '{}' {why}", self.root.display()))
    }

    /// The root's handle, creating the root when missing.
    fn open_root_for_write(&self) -> Result<Dir> {
        if let Some(d) = self.open_root()? {
            return Ok(d);
        }
        let root_error = |e: io::Error| {
            // A file on the way to the root.
            if matches!(e.kind(), io::ErrorKind::AlreadyExists | io::ErrorKind::NotADirectory) {
                return self.unusable("cannot exist: a file is in the way");
            }
            let mut err = io_error("", e);
            err.message = format!("cannot create the local root '{}': {}", self.root.display(), err.message);
            err
        };
        std::fs::create_dir_all(&self.root).map_err(root_error)?;
        Dir::open_ambient_dir(&self.root, ambient_authority()).map_err(root_error)
    }

    /// Creates the root when missing (for stores that want it at once).
    pub fn create(&self) -> Result<()> {
        self.open_root_for_write().map(drop)
    }

    /// The entry at `key` (`''` is the root), following symlinks that stay beneath the root
    /// (its `symlink` is false: only listings tell links apart). `None` when nothing is there
    /// (or a file sits where a folder would have to be).
    pub fn stat(&self, key: &str) -> Result<Option<Entry>> {
        let Some(root) = self.open_root()? else { return Ok(None) };
        if key.is_empty() {
            return root.dir_metadata().map(|m| Some(Entry::of(&m, false))).map_err(|e| io_error(key, e));
        }
        match root.metadata(rel(key)?) {
            Ok(m) => Ok(Some(Entry::of(&m, false))),
            Err(e) if is_missing(&e) => Ok(None),
            Err(e) => Err(io_error(key, e)),
        }
    }

    /// Opens the regular file at `key` for reading: `NotFound` when missing, `InvalidInput`
    /// for a folder or anything else that is not a regular file.
    pub fn open_file(&self, key: &str) -> Result<(File, Entry)> {
        let Some(root) = self.open_root()? else { return Err(not_found(key)) };
        let mut opts = OpenOptions::new();
        opts.read(true);
        // A FIFO swapped in must not block the open (no effect on regular files).
        #[cfg(unix)]
        cap_std::fs::OpenOptionsExt::custom_flags(&mut opts, libc::O_NONBLOCK);
        let file = match root.open_with(rel(key)?, &opts) {
            Ok(f) => f.into_std(),
            Err(e) if is_missing(&e) => return Err(not_found(key)),
            Err(e) => return Err(io_error(key, e)),
        };
        let entry = Entry::of_file(&file).map_err(|e| io_error(key, e))?;
        match entry.kind {
            EntryKind::File => Ok((file, entry)),
            EntryKind::Folder => Err(is_folder(key)),
            EntryKind::Other => Err(Error::invalid(key, format!("Not a regular file: '{key}'"))),
        }
    }

    /// The whole file, as long as it was when opened (bytes appended meanwhile are not read).
    pub fn read(&self, key: &str, token: &CancellationToken) -> Result<Vec<u8>> {
        let (mut file, entry) = self.open_file(key)?;
        let size = usize::try_from(entry.size)
            .map_err(|_| Error::invalid(key, format!("'{key}' ({} bytes) does not fit in memory", entry.size)))?;
        let mut buf = Vec::with_capacity(size);
        while buf.len() < size {
            check(token, key)?;
            let want = (size - buf.len()).min(CHUNK) as u64;
            let n = (&mut file).take(want).read_to_end(&mut buf).map_err(|e| io_error(key, e))?;
            if n == 0 {
                break; // truncated meanwhile
            }
        }
        Ok(buf)
    }

    /// Up to `length` bytes from `offset` (`None`: to the end); empty past the end.
    pub fn read_range(
        &self,
        key: &str,
        offset: u64,
        length: Option<u64>,
        token: &CancellationToken,
    ) -> Result<Vec<u8>> {
        let (file, entry) = self.open_file(key)?;
        let end = match length {
            Some(l) => offset.saturating_add(l).min(entry.size),
            None => entry.size,
        };
        let n = usize::try_from(end.saturating_sub(offset))
            .map_err(|_| Error::invalid(key, format!("range of '{key}' does not fit in memory")))?;
        let mut buf = Vec::with_capacity(n);
        let mut reader = Reader { file, key: key.to_string() };
        reader.file.seek(SeekFrom::Start(offset)).map_err(|e| io_error(key, e))?;
        while buf.len() < n {
            check(token, key)?;
            let want = (n - buf.len()).min(CHUNK);
            if reader.read_into(&mut buf, want)? == 0 {
                break;
            }
        }
        Ok(buf)
    }

    /// A sequential reader of the file at `key` (for streams).
    pub fn reader(&self, key: &str) -> Result<Reader> {
        let (file, _) = self.open_file(key)?;
        Ok(Reader { file, key: key.to_string() })
    }

    /// The entries of the folder at `key`, sorted by name. A missing path, a file or a path
    /// under a file has none. Temp files, names that are not UTF-8, dangling links and links
    /// that leave the root are skipped.
    pub fn list(&self, key: &str) -> Result<Vec<(String, Entry)>> {
        let Some(root) = self.open_root()? else { return Ok(Vec::new()) };
        let dir = if key.is_empty() {
            root
        } else {
            match root.open_dir(rel(key)?) {
                Ok(d) => d,
                Err(e) if is_missing(&e) => return Ok(Vec::new()),
                Err(e) => return Err(io_error(key, e)),
            }
        };
        let mut out = Vec::new();
        for item in dir.entries().map_err(|e| io_error(key, e))? {
            let item = match item {
                Ok(i) => i,
                Err(e) if is_missing(&e) => continue,
                Err(e) => return Err(io_error(key, e)),
            };
            let Ok(name) = item.file_name().into_string() else { continue };
            if name.starts_with(TEMP_PREFIX) {
                continue;
            }
            let own = match item.metadata() {
                Ok(m) => m,
                Err(e) if is_missing(&e) => continue, // removed meanwhile
                Err(e) => return Err(io_error(&join(key, &name), e)),
            };
            let entry = if own.is_symlink() {
                match dir.metadata(&name) {
                    Ok(target) => Entry::of(&target, true),
                    Err(_) => continue, // dangling, a loop, or out of the root
                }
            } else {
                Entry::of(&own, false)
            };
            out.push((name, entry));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// Every file beneath the folder at `key` (recursively, not into linked folders), as
    /// `(key, entry)` in key order.
    pub fn walk_files(&self, key: &str) -> Result<Vec<(String, Entry)>> {
        let mut out = Vec::new();
        let mut stack = vec![key.to_string()];
        while let Some(folder) = stack.pop() {
            let mut sub = Vec::new();
            for (name, entry) in self.list(&folder)? {
                let child = join(&folder, &name);
                match entry.kind {
                    EntryKind::File => out.push((child, entry)),
                    EntryKind::Folder if !entry.symlink => sub.push(child),
                    _ => {}
                }
            }
            stack.extend(sub.into_iter().rev());
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// The handle of `key`'s folder (created with its parents when `create`) and its last segment.
    fn parent(&self, key: &str, create: bool) -> Result<(Dir, String)> {
        rel(key)?; // no empty segment: `name` is not empty
        let (folder, name) = match key.rfind('/') {
            Some(i) => (&key[..i], &key[i + 1..]),
            None => ("", key),
        };
        let root =
            if create { self.open_root_for_write()? } else { self.open_root()?.ok_or_else(|| not_found(key))? };
        if folder.is_empty() {
            return Ok((root, name.to_string()));
        }
        let path = rel(folder)?;
        match root.open_dir(&path) {
            Ok(d) => return Ok((d, name.to_string())),
            Err(e) if create && is_missing(&e) => {}
            Err(e) if create => return Err(self.parent_error(key, e)),
            Err(e) => return Err(io_error(key, e)),
        }
        // Made beneath the root, one confined step at a time; then opened the same way.
        root.create_dir_all(&path)
            .and_then(|()| root.open_dir(&path))
            .map(|d| (d, name.to_string()))
            .map_err(|e| self.parent_error(key, e))
    }

    /// Why the folder of `key` could not be made or opened: a file ancestor is named.
    fn parent_error(&self, key: &str, e: io::Error) -> Error {
        if matches!(e.kind(), io::ErrorKind::AlreadyExists | io::ErrorKind::NotADirectory) {
            let mut ancestor = String::new();
            for seg in key.split('/').take(key.split('/').count() - 1) {
                ancestor = join(&ancestor, seg);
                match self.stat(&ancestor) {
                    Ok(Some(entry)) if entry.kind != EntryKind::Folder => {
                        return Error::invalid(
                            key,
                            format!("Cannot write under file ancestor: '{ancestor}' is a regular file (path='{key}')"),
                        )
                    }
                    Ok(_) => {}
                    // A link out of the root on the way, …: that is the error.
                    Err(mut err) => {
                        err.path = key.to_string();
                        return err;
                    }
                }
            }
        }
        io_error(key, e)
    }

    /// A temp file in the folder of `key` (made with its parents, beneath the root).
    pub fn create_temp(&self, key: &str) -> Result<PendingFile> {
        let (dir, name) = self.parent(key, true)?;
        let mut opts = OpenOptions::new();
        opts.read(true).write(true).create_new(true);
        for _ in 0..16 {
            let temp = temp_name(&name);
            match dir.open_with(&temp, &opts) {
                Ok(f) => {
                    return Ok(PendingFile {
                        dir,
                        temp: Some(temp),
                        name,
                        key: key.to_string(),
                        file: Some(f.into_std()),
                    })
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io_error(key, e)),
            }
        }
        Err(Error::new(ErrorKind::Other, key, format!("no free temp file name next to '{key}'")))
    }

    /// Removes the file (or symlink) at `key`.
    pub fn remove_file(&self, key: &str) -> Result<()> {
        let (dir, name) = self.parent(key, false)?;
        dir.remove_file(&name).map_err(|e| match dir.symlink_metadata(&name) {
            Ok(m) if m.is_dir() => is_folder(key),
            _ => io_error(key, e),
        })
    }

    /// Removes the folder at `key`: `DirectoryNotEmpty` when it has entries and not `recursive`.
    pub fn remove_folder(&self, key: &str, recursive: bool) -> Result<()> {
        let (dir, name) = self.parent(key, false)?;
        let r = if recursive { dir.remove_dir_all(&name) } else { dir.remove_dir(&name) };
        r.map_err(|e| io_error(key, e))
    }

    /// Moves the file at `src` to `dst` (parents made). Create-only (`!overwrite`) is a hard
    /// link then an unlink, so a file that appeared at `dst` meanwhile is never replaced.
    pub fn rename(&self, src: &str, dst: &str, overwrite: bool) -> Result<()> {
        let (from, from_name) = self.parent(src, false)?;
        let (to, to_name) = self.parent(dst, true)?;
        let moved = if overwrite {
            from.rename(&from_name, &to, &to_name)
        } else {
            match from.hard_link(&from_name, &to, &to_name) {
                // The file is at both names now: the old one goes (unless someone removed it already).
                Ok(()) => {
                    return match from.remove_file(&from_name) {
                        Err(e) if !is_missing(&e) => Err(io_error(src, e)),
                        _ => Ok(()),
                    }
                }
                Err(e) if no_hard_links(&e) => rename_checked(&from, &from_name, &to, &to_name),
                Err(e) => Err(e),
            }
        };
        match moved {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::CrossesDevices => {
                self.copy(src, dst, overwrite, &CancellationToken::new())?;
                self.remove_file(src)
            }
            Err(e) if is_missing(&e) && from.symlink_metadata(&from_name).is_err() => Err(io_error(src, e)),
            Err(e) => Err(commit_error(&to, &to_name, dst, e)),
        }
    }

    /// Copies the bytes of `src` to `dst` through a temp file; returns the size.
    pub fn copy(&self, src: &str, dst: &str, overwrite: bool, token: &CancellationToken) -> Result<u64> {
        let (mut from, _) = self.open_file(src)?;
        let mut pending = self.create_temp(dst)?;
        let file = pending.file.as_mut().expect("open until committed");
        loop {
            check(token, src)?;
            let n = io::copy(&mut (&mut from).take(CHUNK as u64), file).map_err(|e| io_error(dst, e))?;
            if n == 0 {
                break;
            }
        }
        let entry = pending.commit(overwrite, token)?;
        Ok(entry.size)
    }
}

/// A file opened for sequential reading.
pub struct Reader {
    file: File,
    key: String,
}

impl Reader {
    /// Appends up to `max` bytes to `buf`; 0 at the end of the file.
    pub fn read_into(&mut self, buf: &mut Vec<u8>, max: usize) -> Result<usize> {
        (&mut self.file).take(max as u64).read_to_end(buf).map_err(|e| io_error(&self.key, e))
    }
}

/// A temp file that becomes the file at `key` on [`PendingFile::commit`], and is removed when
/// dropped before that.
pub struct PendingFile {
    dir: Dir,
    temp: Option<String>,
    name: String,
    key: String,
    file: Option<File>,
}

impl std::fmt::Debug for PendingFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingFile").field("key", &self.key).finish()
    }
}

impl PendingFile {
    pub fn key(&self) -> &str {
        &self.key
    }

    fn file(&mut self) -> Result<&mut File> {
        let key = &self.key;
        self.file.as_mut().ok_or_else(|| Error::invalid(key, format!("the write of '{key}' is already finished")))
    }

    /// Appends `data`, looking at the token between chunks.
    pub fn write(&mut self, data: &[u8], token: &CancellationToken) -> Result<()> {
        for chunk in data.chunks(CHUNK) {
            check(token, &self.key)?;
            let key = self.key.clone();
            self.file()?.write_all(chunk).map_err(|e| io_error(&key, e))?;
        }
        Ok(())
    }

    /// Appends up to `max` bytes (at most 8 MiB) of `source` from `offset`; returns the bytes
    /// appended, 0 at its end. Copied by the kernel where it can (`copy_file_range` on Linux),
    /// so a file written from a file never passes through memory of ours.
    pub fn append_from(&mut self, source: &File, offset: u64, max: u64, token: &CancellationToken) -> Result<u64> {
        check(token, &self.key)?;
        let key = self.key.clone();
        let file = self.file()?;
        let mut source = source;
        source
            .seek(SeekFrom::Start(offset))
            .and_then(|_| io::copy(&mut source.take(max.min(CHUNK as u64)), file))
            .map_err(|e| io_error(&key, e))
    }

    /// Writes `data` at `offset` (multipart parts may arrive out of order).
    pub fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<()> {
        let key = self.key.clone();
        let file = self.file()?;
        file.seek(SeekFrom::Start(offset)).and_then(|_| file.write_all(data)).map_err(|e| io_error(&key, e))
    }

    /// Flushes the data to disk, then — unless the token fired — puts the file in place:
    /// rename when `overwrite`, else a hard link that fails with `AlreadyExists` when the
    /// target exists. The entry describes the committed file.
    pub fn commit(mut self, overwrite: bool, token: &CancellationToken) -> Result<Entry> {
        let key = self.key.clone();
        let file = self
            .file
            .take()
            .ok_or_else(|| Error::invalid(&key, format!("the write of '{key}' is already finished")))?;
        file.sync_data().map_err(|e| io_error(&key, e))?;
        let entry = Entry::of_file(&file).map_err(|e| io_error(&key, e))?;
        // Some FUSE file systems upload on close: close before the rename.
        drop(file);
        check(token, &key)?;
        let temp = self.temp.as_deref().expect("a pending file has its temp");
        let placed = if overwrite {
            self.dir.rename(temp, &self.dir, &self.name)
        } else {
            match self.dir.hard_link(temp, &self.dir, &self.name) {
                Err(e) if no_hard_links(&e) => rename_checked(&self.dir, temp, &self.dir, &self.name),
                r => r,
            }
        };
        placed.map_err(|e| commit_error(&self.dir, &self.name, &key, e))?;
        if overwrite {
            self.temp = None;
        } // else: Drop removes the temp name; the file lives on under its final name.
        Ok(entry)
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        self.file.take();
        if let Some(temp) = self.temp.take() {
            let _ = self.dir.remove_file(temp);
        }
    }
}

/// The error of a failed commit at `name` in `dir`: a folder there is `InvalidInput`.
fn commit_error(dir: &Dir, name: &str, key: &str, e: io::Error) -> Error {
    match dir.symlink_metadata(name) {
        Ok(m) if m.is_dir() => is_folder(key),
        _ => io_error(key, e),
    }
}

/// Create-only rename where hard links are not supported: checked, then renamed (racy).
fn rename_checked(from: &Dir, from_name: &str, to: &Dir, to_name: &str) -> io::Result<()> {
    if to.symlink_metadata(to_name).is_ok() {
        return Err(io::ErrorKind::AlreadyExists.into());
    }
    from.rename(from_name, to, to_name)
}

/// File systems without hard links (FAT, some FUSE and network mounts) refuse `link` this way.
fn no_hard_links(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::Unsupported | io::ErrorKind::CrossesDevices)
        || (e.kind() == io::ErrorKind::PermissionDenied && e.raw_os_error().is_some())
}

fn temp_name(name: &str) -> String {
    let mut temp = format!("{TEMP_PREFIX}{:012x}.", rand::random::<u64>() & 0xffff_ffff_ffff);
    // File names are at most 255 bytes: cut the target's name on a character boundary.
    for c in name.chars() {
        if temp.len() + c.len_utf8() > 255 {
            break;
        }
        temp.push(c);
    }
    temp
}

/// The relative path of a key: `/`-separated segments, none empty, `.` or `..`.
fn rel(key: &str) -> Result<PathBuf> {
    let mut p = PathBuf::new();
    for seg in key.split('/') {
        let bad = seg.is_empty()
            || seg == "."
            || seg == ".."
            || seg.contains('\0')
            || (cfg!(windows) && seg.contains(['\\', ':']));
        if bad {
            return Err(Error::invalid(key, format!("Invalid path for a local file: '{key}'")));
        }
        p.push(seg);
    }
    Ok(p)
}

pub(crate) fn join(folder: &str, name: &str) -> String {
    if folder.is_empty() {
        name.to_string()
    } else {
        format!("{folder}/{name}")
    }
}

fn check(token: &CancellationToken, key: &str) -> Result<()> {
    if token.is_cancelled() {
        Err(Error::aborted(key))
    } else {
        Ok(())
    }
}

/// Missing, or under something that is not a folder.
fn is_missing(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory)
}

fn not_found(key: &str) -> Error {
    Error::new(ErrorKind::NotFound, key, format!("File not found: '{key}'"))
}

fn is_folder(key: &str) -> Error {
    Error::invalid(key, format!("Path is a folder, not a file: '{key}'"))
}

/// Our error for a file system error about `key`. cap-std reports a path that would leave
/// the root as `PermissionDenied` without an OS error code; a real EACCES/EPERM has one.
pub(crate) fn io_error(key: &str, e: io::Error) -> Error {
    use io::ErrorKind as K;
    let (kind, message) = match e.kind() {
        K::NotFound | K::NotADirectory => (ErrorKind::NotFound, format!("Not found: '{key}'")),
        K::PermissionDenied if e.raw_os_error().is_none() => (
            ErrorKind::InvalidInput,
            format!("Path '{key}' goes through a symlink that leaves the store root or has an absolute target"),
        ),
        K::PermissionDenied | K::ReadOnlyFilesystem => {
            (ErrorKind::PermissionDenied, format!("Permission denied: '{key}'"))
        }
        K::AlreadyExists => (ErrorKind::AlreadyExists, format!("File already exists: '{key}'")),
        K::IsADirectory => (ErrorKind::InvalidInput, format!("Path is a folder, not a file: '{key}'")),
        K::DirectoryNotEmpty => (ErrorKind::DirectoryNotEmpty, format!("Folder not empty: '{key}'")),
        _ if is_loop(&e) => (ErrorKind::InvalidInput, format!("Too many levels of symlinks: '{key}'")),
        K::InvalidFilename | K::InvalidInput => {
            (ErrorKind::InvalidInput, format!("Invalid path for a local file: '{key}'"))
        }
        K::StorageFull | K::QuotaExceeded | K::FileTooLarge => (ErrorKind::Other, format!("No space for '{key}': {e}")),
        _ => (ErrorKind::Other, format!("Local file operation on '{key}' failed: {e}")),
    };
    Error::new(kind, key, message)
}

/// ELOOP (io::ErrorKind::FilesystemLoop is not stable yet).
fn is_loop(e: &io::Error) -> bool {
    #[cfg(unix)]
    return e.raw_os_error() == Some(libc::ELOOP);
    #[cfg(not(unix))]
    return false;
}

#[cfg(all(test, unix))]
mod tests;
