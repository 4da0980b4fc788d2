use std::os::unix::fs::symlink;
use std::path::Path as FsPath;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures::StreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutPayload};

use super::*;

/// `dir/root` (the store) and `dir/outside` (holding `secret.txt`).
fn setup() -> (tempfile::TempDir, LocalRoot, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let outside = dir.path().join("outside");
    std::fs::create_dir(&root).unwrap();
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), "outside data").unwrap();
    (dir, LocalRoot::new(&root), outside)
}

fn names(dir: &FsPath) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    v.sort();
    v
}

fn write(root: &LocalRoot, key: &str, data: &[u8], overwrite: bool) -> Result<Entry> {
    let token = CancellationToken::new();
    let mut p = root.create_temp(key)?;
    p.write(data, &token)?;
    p.commit(overwrite, &token)
}

#[test]
fn writes_read_back_and_leave_no_temp_file() {
    let (_d, root, _) = setup();
    let e = write(&root, "a/b/c.txt", b"hello", false).unwrap();
    assert_eq!((e.kind, e.size), (EntryKind::File, 5));
    assert_eq!(root.read("a/b/c.txt", &CancellationToken::new()).unwrap(), b"hello");
    assert_eq!(root.read_range("a/b/c.txt", 1, Some(3), &CancellationToken::new()).unwrap(), b"ell");
    assert_eq!(root.read_range("a/b/c.txt", 9, None, &CancellationToken::new()).unwrap(), b"");
    assert_eq!(names(&root.path().join("a/b")), ["c.txt"]);
    assert_eq!(root.stat("a").unwrap().unwrap().kind, EntryKind::Folder);
    assert!(root.stat("a/x").unwrap().is_none());
    assert!(root.stat("a/b/c.txt/under").unwrap().is_none());
}

#[test]
fn create_only_never_replaces_and_overwrite_does() {
    let (_d, root, _) = setup();
    write(&root, "k", b"one", false).unwrap();
    let err = write(&root, "k", b"two", false).unwrap_err();
    assert_eq!(err.kind, ErrorKind::AlreadyExists);
    assert_eq!(root.read("k", &CancellationToken::new()).unwrap(), b"one");
    write(&root, "k", b"three", true).unwrap();
    assert_eq!(root.read("k", &CancellationToken::new()).unwrap(), b"three");
    assert_eq!(names(root.path()), ["k"]);
}

#[test]
fn a_cancelled_write_commits_nothing_and_leaves_no_temp() {
    let (_d, root, _) = setup();
    let token = CancellationToken::new();
    let mut p = root.create_temp("big").unwrap();
    p.write(&vec![7u8; 20 << 20], &token).unwrap();
    token.cancel();
    assert_eq!(p.commit(true, &token).unwrap_err().kind, ErrorKind::Aborted);
    assert!(names(root.path()).is_empty());
    // Dropped without a commit: the temp goes too.
    let p = root.create_temp("dropped").unwrap();
    assert_eq!(names(root.path()).len(), 1);
    drop(p);
    assert!(names(root.path()).is_empty());
}

#[test]
fn a_write_appends_ranges_of_a_source_file_after_its_chunks() {
    let (d, root, _) = setup();
    let data: Vec<u8> = (0..(9 << 20) + 3).map(|i| (i % 251) as u8).collect();
    let src_path = d.path().join("src.bin");
    std::fs::write(&src_path, &data).unwrap();
    let source = crate::file::open_source(src_path.to_str().unwrap()).unwrap();
    let token = CancellationToken::new();
    let mut p = root.create_temp("copy.bin").unwrap();
    p.write(b"head:", &token).unwrap();
    // One call appends at most 8 MiB; it goes on from where the caller says, and says 0 at the end.
    let mut offset = 5u64;
    let mut calls = 0;
    loop {
        let n = p.append_from(&source, offset, u64::MAX, &token).unwrap();
        if n == 0 {
            break;
        }
        assert!(n <= 8 << 20);
        offset += n;
        calls += 1;
    }
    assert_eq!((offset, calls), (data.len() as u64, 2));
    assert_eq!(p.append_from(&source, 1, 2, &token).unwrap(), 2);
    p.commit(false, &token).unwrap();
    let mut expected = b"head:".to_vec();
    expected.extend_from_slice(&data[5..]);
    expected.extend_from_slice(&data[1..3]);
    assert_eq!(root.read("copy.bin", &token).unwrap(), expected);

    let mut p = root.create_temp("never.bin").unwrap();
    token.cancel();
    assert_eq!(p.append_from(&source, 0, 10, &token).unwrap_err().kind, ErrorKind::Aborted);
}

#[test]
fn only_regular_files_open_as_sources() {
    let (d, _root, _) = setup();
    assert!(crate::file::open_source(d.path().to_str().unwrap()).is_err());
    assert!(crate::file::open_source(d.path().join("missing").to_str().unwrap()).is_err());
    let fifo = d.path().join("fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    // Opened without blocking (no writer comes), then refused.
    let err = crate::file::open_source(fifo.to_str().unwrap()).unwrap_err();
    assert!(err.to_string().contains("not a regular file"));
}

#[test]
fn a_root_that_is_a_file_fails_every_call_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("afile");
    std::fs::write(&file, "x").unwrap();
    for root in [file.clone(), file.join("below")] {
        let root = LocalRoot::new(&root);
        let err = root.create_temp("k.txt").unwrap_err();
        assert_eq!(err.kind, ErrorKind::Unavailable, "{err:?}");
        assert!(err.message.contains("afile"), "{}", err.message);
    }
    // Reads too: a file where the root should be is no empty store.
    for root in [file.clone(), file.join("below")] {
        let root = LocalRoot::new(&root);
        assert_eq!(root.stat("k.txt").unwrap_err().kind, ErrorKind::Unavailable);
        assert_eq!(root.list("").unwrap_err().kind, ErrorKind::Unavailable);
    }
}

#[test]
fn symlinks_out_of_the_root_are_refused_everywhere() {
    let (_d, root, outside) = setup();
    symlink(&outside, root.path().join("link")).unwrap();
    symlink(outside.join("secret.txt"), root.path().join("file-link")).unwrap();
    symlink("../outside", root.path().join("rel-link")).unwrap();
    let t = CancellationToken::new();
    for key in ["link/secret.txt", "file-link", "rel-link/secret.txt"] {
        assert_eq!(root.read(key, &t).unwrap_err().kind, ErrorKind::InvalidInput, "{key}");
        assert_eq!(root.stat(key).unwrap_err().kind, ErrorKind::InvalidInput, "{key}");
    }
    let err = root.create_temp("link/new.txt").unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
    assert!(!err.message.contains(outside.to_str().unwrap()), "{}", err.message);
    assert_eq!(root.rename("file-link", "link/moved", true).unwrap_err().kind, ErrorKind::InvalidInput);
    assert_eq!(root.copy("file-link", "copy", true, &t).unwrap_err().kind, ErrorKind::InvalidInput);
    assert_eq!(root.list("link").unwrap_err().kind, ErrorKind::InvalidInput);
    assert!(root.list("").unwrap().is_empty());
    assert!(root.walk_files("").unwrap().is_empty());
    assert_eq!(names(&outside), ["secret.txt"]);
}

#[test]
fn relative_symlinks_inside_the_root_work_and_absolute_ones_are_refused() {
    let (_d, root, _) = setup();
    write(&root, "real/a.txt", b"inside", false).unwrap();
    symlink("real", root.path().join("alias")).unwrap();
    symlink(root.path().join("real"), root.path().join("absolute")).unwrap();
    // A loop back to the root: listed as a folder, never walked into.
    symlink("..", root.path().join("real/loop")).unwrap();
    let t = CancellationToken::new();
    assert_eq!(root.read("alias/a.txt", &t).unwrap(), b"inside");
    assert_eq!(root.read("real/loop/real/a.txt", &t).unwrap(), b"inside");
    assert_eq!(root.read("absolute/a.txt", &t).unwrap_err().kind, ErrorKind::InvalidInput);
    let listed: Vec<(String, bool)> = root.list("").unwrap().into_iter().map(|(n, e)| (n, e.symlink)).collect();
    assert_eq!(listed, [("alias".to_string(), true), ("real".to_string(), false)]);
    let walked: Vec<String> = root.walk_files("").unwrap().into_iter().map(|(k, _)| k).collect();
    assert_eq!(walked, ["real/a.txt"]);
}

#[test]
fn writes_under_a_file_name_the_file_ancestor() {
    let (_d, root, _) = setup();
    write(&root, "anc.txt", b"x", false).unwrap();
    let err = root.create_temp("anc.txt/deeper/x").unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
    assert!(err.message.contains("'anc.txt'"), "{}", err.message);
}

#[test]
fn folders_are_removed_only_when_empty_unless_recursive() {
    let (_d, root, _) = setup();
    write(&root, "f/a", b"x", false).unwrap();
    assert_eq!(root.remove_folder("f", false).unwrap_err().kind, ErrorKind::DirectoryNotEmpty);
    assert_eq!(root.remove_file("f").unwrap_err().kind, ErrorKind::InvalidInput);
    root.remove_folder("f", true).unwrap();
    assert!(root.stat("f").unwrap().is_none());
    assert_eq!(root.remove_file("f/a").unwrap_err().kind, ErrorKind::NotFound);
}

#[test]
fn moves_are_create_only_unless_overwriting() {
    let (_d, root, _) = setup();
    write(&root, "a", b"a", false).unwrap();
    write(&root, "b", b"b", false).unwrap();
    assert_eq!(root.rename("a", "b", false).unwrap_err().kind, ErrorKind::AlreadyExists);
    root.rename("a", "sub/c", false).unwrap();
    root.rename("sub/c", "b", true).unwrap();
    assert_eq!(root.read("b", &CancellationToken::new()).unwrap(), b"a");
    assert_eq!(root.rename("missing", "x", true).unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(names(root.path()), ["b", "sub"]);
}

#[test]
fn bad_keys_are_invalid_input() {
    let (_d, root, _) = setup();
    for key in ["a//b", "../x", "a/./b", "nul\0", "/abs"] {
        assert_eq!(root.stat(key).unwrap_err().kind, ErrorKind::InvalidInput, "{key:?}");
    }
}

/// A folder is swapped for a symlink to an outside directory and back, as fast as it can be,
/// while writers, movers and readers work in it: nothing ever lands outside.
#[test]
fn concurrent_symlink_swaps_never_let_a_write_out() {
    let (_d, root, outside) = setup();
    let target = root.path().join("swap");
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (stop, target, outside) = (stop.clone(), target.clone(), outside.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let _ = std::fs::remove_dir_all(&target);
                let _ = std::fs::remove_file(&target);
                let _ = symlink(&outside, &target);
                let _ = std::fs::remove_file(&target);
                let _ = std::fs::create_dir(&target);
                n += 1;
            }
            n
        })
    };
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let root = root.clone();
            std::thread::spawn(move || {
                let t = CancellationToken::new();
                for i in 0..300 {
                    let key = format!("swap/w{w}-{i}");
                    let _ = write(&root, &key, b"data", i % 2 == 0);
                    let _ = root.rename(&key, &format!("swap/m{w}-{i}"), false);
                    let _ = root.read(&format!("swap/m{w}-{i}"), &t);
                    let _ = root.copy(&format!("swap/m{w}-{i}"), &format!("swap/c{w}-{i}"), true, &t);
                    let _ = root.list("swap");
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    assert!(swapper.join().unwrap() > 0);
    assert_eq!(names(&outside), ["secret.txt"]);
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(f)
}

#[test]
fn the_object_store_is_confined_too() {
    let (_d, root, outside) = setup();
    symlink(&outside, root.path().join("link")).unwrap();
    symlink(outside.join("secret.txt"), root.path().join("file-link")).unwrap();
    let store = ConfinedStore::new(root.clone());
    block_on(async {
        for key in ["link/secret.txt", "file-link"] {
            let err = store.get(&Path::from(key)).await.unwrap_err();
            assert_eq!(Error::from_store(key, err).kind, ErrorKind::InvalidInput, "{key}");
        }
        let err = store.put(&Path::from("link/new"), PutPayload::from_static(b"x")).await.unwrap_err();
        assert_eq!(Error::from_store("link/new", err).kind, ErrorKind::InvalidInput);

        let p = Path::from("d/obj");
        store.put(&p, PutPayload::from_static(b"0123456789")).await.unwrap();
        assert_eq!(store.get(&p).await.unwrap().bytes().await.unwrap().as_ref(), b"0123456789");
        assert_eq!(store.get_range(&p, 2..5).await.unwrap().as_ref(), b"234");
        let head = store.head(&p).await.unwrap();
        assert_eq!(head.size, 10);
        let again = store.put_opts(&p, PutPayload::from_static(b"x"), PutMode::Create.into()).await.unwrap_err();
        assert!(matches!(again, object_store::Error::AlreadyExists { .. }), "{again}");

        let mut up = store.put_multipart(&Path::from("d/multi")).await.unwrap();
        let (a, b) = (up.put_part(PutPayload::from_static(b"aaa")), up.put_part(PutPayload::from_static(b"bb")));
        futures::future::try_join(b, a).await.unwrap();
        up.complete().await.unwrap();
        assert_eq!(std::fs::read(root.path().join("d/multi")).unwrap(), b"aaabb");

        let listed: Vec<String> = store.list(None).map(|m| m.unwrap().location.to_string()).collect::<Vec<_>>().await;
        assert_eq!(listed, ["d/multi", "d/obj"]);
        let level = store.list_with_delimiter(None).await.unwrap();
        assert_eq!(level.common_prefixes, [Path::from("d")]);
        store.delete(&p).await.unwrap();
        assert!(matches!(store.delete(&p).await.unwrap_err(), object_store::Error::NotFound { .. }));
    });
    assert_eq!(names(&outside), ["secret.txt"]);
}

#[test]
fn a_dropped_object_store_write_commits_nothing() {
    let (_d, root, _) = setup();
    let store = ConfinedStore::new(root.clone());
    block_on(async {
        let big = PutPayload::from(vec![1u8; 64 << 20]);
        // Dropped as soon as it has started (as `cancellable` drops a cancelled call).
        let key = Path::from("big");
        let mut put = Box::pin(store.put(&key, big));
        assert!(futures::poll!(&mut put).is_pending());
        drop(put);
        // The blocking work finishes on its own; wait for it to clean up.
        for _ in 0..200 {
            if names(root.path()).is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    });
    assert!(names(root.path()).is_empty(), "{:?}", names(root.path()));
}
