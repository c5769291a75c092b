export declare const SOURCE_DIRS: string[];
/** Newest mtime (ms) of the source files under the product folders of `root`. */
export declare function newestSource(root: string): number;
/** True when `root`'s dist/ was built from sources at least as new as the ones in the tree. */
export declare function distIsCurrent(root: string): boolean;
/** Node arguments that run the CLI of `root`: compiled when dist/ is current, else through tsx. */
export declare function cliNodeArgs(root: string): string[];
